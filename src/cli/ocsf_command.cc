// `warden ocsf validate FILE [--schema PATH] [--json] [--strict] [--missing-recommended]`: checks
// every line of an OCSF JSONL file against the official OCSF 1.7.0 schema with the checks of the
// OCSF project's own validator. Errors are printed as they are found, warnings after all errors
// (each as FILE:LINE: error|warning: $.path: message [code]), then the summary. The exit status
// is 0 when there are no errors (and, with --strict, no warnings), else 1; 2 for usage errors.

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <exception>
#include <iostream>
#include <memory>
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
  bool strict = false;
  bool missing_recommended = false;
};

std::string formatProblem(const ValidateOptions& o, std::size_t line, const ocsf::Problem& p) {
  if (o.json) {
    const nlohmann::json j = {
        {"file", o.file}, {"line", line},   {"severity", ocsf::severityName(p.severity)},
        {"code", p.code}, {"path", p.path}, {"message", p.message}};
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  return fmt::format("{}:{}: {}: {}: {} [{}]\n", o.file, line, ocsf::severityName(p.severity), p.path,
                     p.message, p.code);
}

// Holds the warnings until every error is printed: in an anonymous temporary file, so a file of
// any size keeps them all; in memory if no temporary file can be made.
class WarningSpool {
 public:
  WarningSpool() : file_(std::tmpfile(), &std::fclose) {}

  void add(const std::string& text) {
    if (file_ && !broken_) {
      if (std::fwrite(text.data(), 1, text.size(), file_.get()) == text.size()) {
        kept_ += text.size();
        return;
      }
      broken_ = true;  // from here on in memory; a partly written line is not read back
    }
    memory_ += text;
  }

  // Copies everything held to `out`, in the order it was added. False when reading back failed.
  bool flushTo(std::FILE* out) {
    bool ok = true;
    if (file_ && kept_ > 0) {
      ok = std::fflush(file_.get()) == 0 && std::fseek(file_.get(), 0, SEEK_SET) == 0;
      char buf[1 << 16];
      std::size_t left = kept_;
      while (ok && left > 0) {
        const std::size_t n = std::fread(buf, 1, std::min(sizeof(buf), left), file_.get());
        if (n == 0) {
          ok = false;
          break;
        }
        std::fwrite(buf, 1, n, out);
        left -= n;
      }
    }
    std::fwrite(memory_.data(), 1, memory_.size(), out);
    return ok;
  }

 private:
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_;
  std::size_t kept_ = 0;  // bytes of whole lines in the file
  bool broken_ = false;
  std::string memory_;  // what came after a failed write (or all of it without a file)
};

int runValidate(const ValidateOptions& o) {
  const auto schema =
      ocsf::loadSchema(o.schema.empty() ? std::nullopt : std::optional<std::filesystem::path>(o.schema));
  if (!schema.ok()) {
    fmt::print(stderr, "warden ocsf validate: cannot load schema: {}\n", schema.error().message());
    return kExitFailure;
  }

  const ocsf::Validator validator(*schema, ocsf::ValidatorOptions{o.missing_recommended});
  WarningSpool warnings;
  const auto print = [&](std::size_t line, const std::vector<ocsf::Problem>& problems) {
    for (const auto& p : problems) {
      if (p.isError()) {
        std::fputs(formatProblem(o, line, p).c_str(), stdout);
      } else {
        warnings.add(formatProblem(o, line, p));
      }
    }
  };
  // "-" reads standard input, so events can be piped in.
  auto summary =
      o.file == "-" ? validator.validateStream(std::cin, print) : validator.validateFile(o.file, print);
  if (!summary.ok() && o.file == "-") summary = summary.error().withContext("<stdin>");
  const bool warnings_ok = warnings.flushTo(stdout);
  if (!summary.ok()) {
    std::fflush(stdout);
    fmt::print(stderr, "{}\n", summary.error().message());
    return kExitFailure;
  }
  const bool passed = summary->errors == 0 && (!o.strict || summary->warnings == 0) && warnings_ok;
  if (o.json) {
    fmt::print(stdout, "{}\n",
               nlohmann::json{{"events", summary->events},
                              {"errors", summary->errors},
                              {"warnings", summary->warnings},
                              {"events_with_errors", summary->lines_with_errors},
                              {"events_with_warnings", summary->lines_with_warnings},
                              {"strict", o.strict},
                              {"passed", passed}}
                   .dump());
  } else {
    fmt::print(stdout, "{} events, {} errors, {} warnings{}\n", summary->events, summary->errors,
               summary->warnings,
               o.strict && summary->errors == 0 && summary->warnings > 0 ? " (--strict: warnings fail)" : "");
  }
  if (!warnings_ok) {
    std::fflush(stdout);
    fmt::print(stderr,
               "warden ocsf validate: could not read back the held warnings; some are missing above\n");
  }
  return passed ? kExitOk : kExitFailure;
}

}  // namespace

int ocsfCommand(int argc, char** argv) {
  CLI::App app{"Validate OCSF 1.7.0 JSONL against the official schema.", "warden ocsf"};
  app.require_subcommand(1);

  ValidateOptions options;
  auto* validate = app.add_subcommand(
      "validate",
      "Check each line of a JSONL file against the OCSF 1.7.0 schema, as the OCSF project's validator does");
  validate->add_option("FILE", options.file, "JSONL file, one OCSF event per line (- for standard input)")
      ->required();
  validate->add_option(
      "--schema", options.schema,
      "a compiled OCSF schema file to use instead of the OCSF 1.7.0 schema embedded in warden");
  validate->add_flag("--json", options.json,
                     "one JSON object per problem (errors, then warnings), then a summary object");
  validate->add_flag("--strict", options.strict, "fail (exit 1) on warnings too, not only on errors");
  validate->add_flag("--missing-recommended", options.missing_recommended,
                     "warn about missing recommended attributes (attribute_recommended_missing)");

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
