# Run by CTest after the discovered lab tests are added (tests/CMakeLists.txt
# appends it to TEST_INCLUDE_FILES after gtest_discover_tests' own file):
# labels them "lab" and "root-required" and runs them one at a time.
# gtest_discover_tests(PROPERTIES ...) cannot carry this itself: it flattens
# a list value into separate arguments, so "lab;root-required" became the
# label "lab" and a property named "root-required", and RUN_SERIAL was lost.
if(DEFINED lab_tests_TESTS)
  set_tests_properties(${lab_tests_TESTS} PROPERTIES LABELS "lab;root-required" RUN_SERIAL TRUE)
endif()
