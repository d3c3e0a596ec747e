#include "ocsf/type_regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <fmt/format.h>
#include <pcre2.h>

namespace warden::ocsf {

struct TypeRegex::Code {
  pcre2_code* code = nullptr;
  bool jit = false;
  ~Code() { pcre2_code_free(code); }
};

namespace {

// Per-thread match scratch: one ovector pair is all a yes/no match needs.
pcre2_match_data* threadMatchData() {
  struct Holder {
    pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
    ~Holder() { pcre2_match_data_free(data); }
  };
  thread_local Holder holder;
  return holder.data;
}

}  // namespace

Result<TypeRegex> TypeRegex::compile(std::string_view pattern) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), 0, &error,
                                   &offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof(message));
    return invalidArgument(fmt::format("{} at offset {}", reinterpret_cast<const char*>(message), offset));
  }
  auto compiled = std::make_shared<Code>();
  compiled->code = code;
  compiled->jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  return TypeRegex(std::move(compiled), std::string(pattern));
}

bool TypeRegex::matches(std::string_view subject) const {
  pcre2_match_data* data = threadMatchData();
  if (data == nullptr) return false;
  const auto* s = reinterpret_cast<PCRE2_SPTR>(subject.data());
  const int rc = code_->jit ? pcre2_jit_match(code_->code, s, subject.size(), 0, 0, data, nullptr)
                            : pcre2_match(code_->code, s, subject.size(), 0, 0, data, nullptr);
  return rc >= 0;
}

}  // namespace warden::ocsf
