// `warden ocsf validate FILE [--schema PATH] [--json]`: checks every line of an OCSF JSONL file
// against the official OCSF 1.7.0 schema and names each problem as FILE:LINE: $.path: message.

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/dispatch.h"
#include "ocsf/embedded_schema.h"
#include "ocsf/validator.h"

namespace warden::cli {
namespace {

struct ValidateOptions {
  std::string file;
  std::string schema;  // empty: the schema embedded in the binary
  bool json = false;
};

void printProblem(const ValidateOptions& o, std::size_t line, const ocsf::Problem& p) {
  if (o.json) {
    const nlohmann::json j = {{"file", o.file}, {"line", line}, {"path", p.path}, {"message", p.message}};
    fmt::print(stdout, "{}\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  } else {
    fmt::print(stdout, "{}:{}: {}: {}\n", o.file, line, p.path, p.message);
  }
}

int runValidate(const ValidateOptions& o) {
  const auto schema =
      ocsf::loadSchema(o.schema.empty() ? std::nullopt : std::optional<std::filesystem::path>(o.schema));
  if (!schema.ok()) {
    fmt::print(stderr, "warden ocsf validate: cannot load schema: {}\n", schema.error().message());
    return kExitFailure;
  }

  const ocsf::Validator validator(*schema);
  const auto print = [&](std::size_t line, const std::vector<ocsf::Problem>& problems) {
    for (const auto& p : problems) printProblem(o, line, p);
  };
  // "-" reads standard input, so events can be piped in.
  auto summary =
      o.file == "-" ? validator.validateStream(std::cin, print) : validator.validateFile(o.file, print);
  if (!summary.ok() && o.file == "-") summary = summary.error().withContext("<stdin>");
  if (!summary.ok()) {
    std::fflush(stdout);
    fmt::print(stderr, "{}\n", summary.error().message());
    return kExitFailure;
  }
  if (o.json) {
    fmt::print(stdout, "{}\n",
               nlohmann::json{{"events", summary->events}, {"invalid", summary->invalid}}.dump());
  } else {
    fmt::print(stdout, "{} events, {} invalid\n", summary->events, summary->invalid);
  }
  return summary->invalid == 0 ? kExitOk : kExitFailure;
}

}  // namespace

int ocsfCommand(int argc, char** argv) {
  CLI::App app{"Validate OCSF 1.7.0 JSONL against the official schema.", "warden ocsf"};
  app.require_subcommand(1);

  ValidateOptions options;
  auto* validate =
      app.add_subcommand("validate", "Check each line of a JSONL file against the OCSF 1.7.0 schema");
  validate->add_option("FILE", options.file, "JSONL file, one OCSF event per line (- for standard input)")
      ->required();
  validate->add_option(
      "--schema", options.schema,
      "a compiled OCSF schema file to use instead of the OCSF 1.7.0 schema embedded in warden");
  validate->add_flag("--json", options.json, "one JSON object per problem, then a summary object");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // prints help (rc 0) or the usage error
    return rc == 0 ? kExitOk : kExitUsage;
  }

  try {
    if (validate->parsed()) return runValidate(options);
  } catch (const std::exception& e) {  // the edge: nothing escapes a command
    fmt::print(stderr, "warden ocsf: internal error: {}\n", e.what());
    return kExitFailure;
  }
  return kExitUsage;
}

}  // namespace warden::cli
