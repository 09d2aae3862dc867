# ephport's BPF programs, each compiled with clang and embedded in ephport as
# a libbpf skeleton together with its C++ reader, or replaced by a stub when
# they cannot be built:
#   bind_state     bpf_iter/tcp: the bind-bucket state of every TCP socket
#                  (bind_state_reader.cpp, or bind_state_stub.cpp);
#   socket_owners  iter/task_file: socket inode -> pid of every process
#                  (socket_owners_reader.cpp, or socket_owners_stub.cpp).
#
# ephport_add_bpf_programs(<target>) adds the readers or the stubs to
# <target>, all of one or all of the other, following EPHPORT_BPF:
#   AUTO  the readers if clang, bpftool, libbpf (pkg-config) and kernel BTF
#         are all found, else the stubs; the status line names what is missing;
#   ON    the readers, or a configure error naming what is missing;
#   OFF   the stubs.
#
# At build time the programs' files are made in <build>/bpf/, for each NAME:
#   vmlinux.h          bpftool btf dump file <BTF> format c (CO-RE types; one
#                      for all programs)
#   NAME.bpf.o         clang -g -O2 -target bpf
#   NAME.o             bpftool gen object: the same, linked, without DWARF
#   NAME.skel.h        bpftool gen skeleton: the object embedded in a header

# Script mode, used by the build:
#   cmake -DEPHPORT_OUTPUT=<file> -P BpfSkeleton.cmake -- <command> <args>...
# runs the command and writes its standard output to <file>, all or nothing.
if(CMAKE_SCRIPT_MODE_FILE)
  set(command "")
  set(in_command FALSE)
  math(EXPR last "${CMAKE_ARGC} - 1")
  foreach(i RANGE ${last})
    if(in_command)
      list(APPEND command "${CMAKE_ARGV${i}}")
    elseif(CMAKE_ARGV${i} STREQUAL "--")
      set(in_command TRUE)
    endif()
  endforeach()
  execute_process(COMMAND ${command} OUTPUT_FILE ${EPHPORT_OUTPUT}.tmp RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    file(REMOVE ${EPHPORT_OUTPUT}.tmp)
    message(FATAL_ERROR "failed (${result}): ${command}")
  endif()
  file(RENAME ${EPHPORT_OUTPUT}.tmp ${EPHPORT_OUTPUT})
  return()
endif()

set(EPHPORT_BPF_BTF /sys/kernel/btf/vmlinux CACHE FILEPATH
    "Kernel BTF that vmlinux.h is generated from (EPHPORT_BPF)")
set(_EPHPORT_BPF_MODULE ${CMAKE_CURRENT_LIST_FILE})

# Sets <missing_var> to the list of what building the reader lacks.
function(_ephport_find_bpf_tools missing_var)
  set(missing "")
  find_program(EPHPORT_BPF_CLANG NAMES clang clang-19 clang-18 clang-17 clang-16 clang-15 clang-14)
  if(NOT EPHPORT_BPF_CLANG)
    list(APPEND missing clang)
  endif()
  # Debian installs bpftool in /usr/sbin, outside a normal user's PATH.
  find_program(EPHPORT_BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin /usr/local/sbin)
  if(NOT EPHPORT_BPFTOOL)
    list(APPEND missing bpftool)
  endif()
  find_package(PkgConfig QUIET)
  if(PkgConfig_FOUND)
    pkg_check_modules(LIBBPF QUIET IMPORTED_TARGET libbpf)
  endif()
  if(NOT LIBBPF_FOUND)
    list(APPEND missing "libbpf (pkg-config libbpf)")
  endif()
  if(NOT EXISTS ${EPHPORT_BPF_BTF})
    list(APPEND missing "kernel BTF (${EPHPORT_BPF_BTF})")
  endif()
  set(${missing_var} "${missing}" PARENT_SCOPE)
endfunction()

# Runs a command at build time with its standard output going to `output`.
function(_ephport_capture output)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "COMMENT" "COMMAND;DEPENDS")
  add_custom_command(OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -DEPHPORT_OUTPUT=${output} -P ${_EPHPORT_BPF_MODULE} --
            ${arg_COMMAND}
    DEPENDS ${arg_DEPENDS} COMMENT "${arg_COMMENT}" VERBATIM)
endfunction()

function(_ephport_bpf_arch result)
  set(arch ${CMAKE_SYSTEM_PROCESSOR})
  if(arch MATCHES "^(x86_64|AMD64|i.86)$")
    set(arch x86)
  elseif(arch MATCHES "^(aarch64|arm64)")
    set(arch arm64)
  elseif(arch MATCHES "^(ppc|powerpc)")
    set(arch powerpc)
  elseif(arch MATCHES "^riscv")
    set(arch riscv)
  elseif(arch MATCHES "^s390")
    set(arch s390)
  endif()
  set(${result} ${arch} PARENT_SCOPE)
endfunction()

# <build>/bpf/vmlinux.h, the kernel types every program is compiled against.
# Its rule is made once: the programs' rules all depend on the one file.
function(_ephport_bpf_vmlinux)
  get_property(done GLOBAL PROPERTY _EPHPORT_BPF_VMLINUX)
  if(done)
    return()
  endif()
  set_property(GLOBAL PROPERTY _EPHPORT_BPF_VMLINUX TRUE)
  set(gen ${CMAKE_BINARY_DIR}/bpf)
  file(MAKE_DIRECTORY ${gen})
  _ephport_capture(${gen}/vmlinux.h
    COMMAND ${EPHPORT_BPFTOOL} btf dump file ${EPHPORT_BPF_BTF} format c
    COMMENT "Generating vmlinux.h from ${EPHPORT_BPF_BTF}")
endfunction()

# One program's object and skeleton, generated into <build>/bpf from
# <source> (NAME.bpf.c) and compiled into `target`, whose reader includes
# NAME.skel.h. Called once per program.
function(_ephport_bpf_skeleton target source)
  set(gen ${CMAKE_BINARY_DIR}/bpf)
  get_filename_component(name ${source} NAME_WE)  # bind_state, socket_owners
  _ephport_bpf_arch(arch)
  _ephport_bpf_vmlinux()

  set(include_flags "")
  foreach(dir ${LIBBPF_INCLUDE_DIRS} ${LIBBPF_INCLUDEDIR})
    list(APPEND include_flags -I${dir})
  endforeach()
  add_custom_command(OUTPUT ${gen}/${name}.bpf.o
    COMMAND ${EPHPORT_BPF_CLANG} -g -O2 -target bpf -D__TARGET_ARCH_${arch} -I${gen}
            ${include_flags} -Wall -MD -MF ${gen}/${name}.bpf.d -c ${source}
            -o ${gen}/${name}.bpf.o
    DEPENDS ${source} ${gen}/vmlinux.h
    DEPFILE ${gen}/${name}.bpf.d
    COMMENT "Compiling BPF program ${name}.bpf.c" VERBATIM)

  add_custom_command(OUTPUT ${gen}/${name}.o
    COMMAND ${EPHPORT_BPFTOOL} gen object ${gen}/${name}.o ${gen}/${name}.bpf.o
    DEPENDS ${gen}/${name}.bpf.o
    COMMENT "Linking BPF object ${name}.o" VERBATIM)

  _ephport_capture(${gen}/${name}.skel.h
    COMMAND ${EPHPORT_BPFTOOL} gen skeleton ${gen}/${name}.o name ${name}_bpf
    DEPENDS ${gen}/${name}.o
    COMMENT "Generating BPF skeleton ${name}.skel.h")

  target_sources(${target} PRIVATE ${gen}/${name}.skel.h)
  # SYSTEM: the skeleton embeds the object as one long string literal.
  target_include_directories(${target} SYSTEM PRIVATE ${gen})
  target_link_libraries(${target} PUBLIC PkgConfig::LIBBPF)
endfunction()

# The programs' sources and readers, and the stubs used instead, in
# src/collect/linux/bpf/ (excluded from the main glob).
set(_EPHPORT_BPF_PROGRAMS bind_state socket_owners)

function(ephport_add_bpf_programs target)
  set(dir ${PROJECT_SOURCE_DIR}/src/collect/linux/bpf)
  string(TOUPPER "${EPHPORT_BPF}" mode)
  if(NOT mode MATCHES "^(AUTO|ON|OFF)$")
    message(FATAL_ERROR "EPHPORT_BPF must be AUTO, ON or OFF, not '${EPHPORT_BPF}'")
  endif()

  set(missing "")
  if(NOT mode STREQUAL "OFF")
    _ephport_find_bpf_tools(missing)
  endif()
  set(what "BPF bind-state reader and socket-owner walk")
  if(missing)
    list(JOIN missing ", " missing_text)
    if(mode STREQUAL "ON")
      message(FATAL_ERROR "ephport: EPHPORT_BPF=ON but the ${what} cannot be built "
                          "(missing: ${missing_text}); install clang, bpftool and "
                          "libbpf-dev, or set EPHPORT_BPF=AUTO or OFF")
    endif()
    message(STATUS "ephport: ${what} OFF, stubs built (missing: ${missing_text})")
  elseif(mode STREQUAL "OFF")
    message(STATUS "ephport: ${what} OFF, stubs built (EPHPORT_BPF=OFF)")
  endif()

  if(missing OR mode STREQUAL "OFF")
    foreach(program ${_EPHPORT_BPF_PROGRAMS})
      target_sources(${target} PRIVATE ${dir}/${program}_stub.cpp)
    endforeach()
    return()
  endif()
  message(STATUS "ephport: ${what} ON (${EPHPORT_BPF_CLANG}, ${EPHPORT_BPFTOOL}, "
                 "libbpf ${LIBBPF_VERSION}, BTF ${EPHPORT_BPF_BTF})")
  target_compile_definitions(${target} PUBLIC EPHPORT_BPF_READER=1)
  target_sources(${target} PRIVATE ${dir}/libbpf_support.cpp)
  foreach(program ${_EPHPORT_BPF_PROGRAMS})
    target_sources(${target} PRIVATE ${dir}/${program}_reader.cpp)
    _ephport_bpf_skeleton(${target} ${dir}/${program}.bpf.c)
  endforeach()
endfunction()
