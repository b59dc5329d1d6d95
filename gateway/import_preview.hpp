#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/json/json.hpp"
#include "common/records/property_catalog.hpp"

namespace jobgate::gateway {

// Checks an import without running it, for ?dryRun=true: resolves the header against the column
// mappings and validates the first rows, exactly as the worker would. Returns the response body:
// the mapping, the import failure the job would end with (if any), and the rejected rows among
// those checked. `file_start` is the start of the file, and `whole_file` is true when it is all of
// it. Otherwise the last record may be cut off, so it is not checked.
std::string preview_import(const records::property_catalog& catalog,
                           const json::document& import_request, std::string_view file_start,
                           bool whole_file, std::size_t max_rows);

}  // namespace jobgate::gateway
