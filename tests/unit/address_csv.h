#pragma once
// The address sheet as CSV, header and rows apart: what the log and the
// seed's file hold, in the form the tests compare line by line.

#include <string>

#include "analyze/analysis.h"
#include "output/address_rows.h"
#include "output/csv.h"

namespace ephport::testing {

inline std::string render_csv_header() {
  return render_csv(Sheet{address_columns(), {}});
}

inline std::string render_csv_rows(const Analysis& analysis) {
  return render_csv(address_sheet(analysis, false), false);
}

}  // namespace ephport::testing
