#include <gtest/gtest.h>
#include <lzma.h>
#include <zlib.h>

#include <nlohmann/json.hpp>

#include "proxy/inspect/decompress.h"
#include "proxy/inspect/install_args.h"
#include "common/secret_shape.h"
#include "proxy/inspect/tool_input.h"

namespace warden::proxy::inspect {
namespace {

using nlohmann::json;

TEST(SecretShapeTest, KeysAndValuesThatLookLikeSecrets) {
  for (const char* k : {"password", "API_KEY", "x-api-key", "github_token", "Authorization", "client_secret", "cookie"}) {
    EXPECT_TRUE(isSecretKeyName(k)) << k;
  }
  for (const char* k : {"path", "max_tokens", "author", "tokenizer", "query"}) EXPECT_FALSE(isSecretKeyName(k)) << k;
  for (const char* v : {"sk-proj-abcdefghijklmnop", "ghp_0123456789abcdefghij", "AKIAIOSFODNN7EXAMPLE",
                        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_nature-x", "Bearer abcdefghij",
                        "-----BEGIN OPENSSH PRIVATE KEY-----", "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8"}) {
    EXPECT_TRUE(looksLikeSecret(v)) << v;
  }
  for (const char* v : {"/workspace/README.md", "hello world", "2.31.0", "skeleton", "internationalization-is-long-word"}) {
    EXPECT_FALSE(looksLikeSecret(v)) << v;
  }
  EXPECT_EQ(redactSecrets("use password: hunter2 and token=abc and sk-abcdefghijklmnop0 ok"),
            "use password: [redacted] and token=[redacted] and [redacted] ok");
  EXPECT_EQ(redactSecrets("curl -H 'Authorization: Bearer warden-cred-gh-0123456789abcdef' -H x-api-key: k1 https://h/"),
            "curl -H 'Authorization: [redacted] [redacted] -H x-api-key: [redacted] https://h/");
  EXPECT_EQ(redactSecrets(R"(node c.js 'search:{"q":"ocsf","api_key":"plain"}')"),
            R"(node c.js 'search:{"q":"ocsf","api_key":"[redacted]"}')");
  EXPECT_EQ(redactSecrets("pass the session along"), "pass the session along");
}

TEST(SecretShapeTest, PathsAndDottedNamesAreNotSecretsButLongRandomStretchesAre) {
  // Command lines are full of these: long, letters and digits, yet no secret.
  EXPECT_FALSE(looksLikeSecret("/var/tmp/warden-demo.4F191P/workspace/report2024_01.txt"));
  EXPECT_FALSE(looksLikeSecret("/home/agent/project/src/module_v2/file_2024_01.py"));
  EXPECT_FALSE(looksLikeSecret("org.example.build2024.module77.Main"));
  EXPECT_EQ(redactSecrets("--output=/var/tmp/build-2024/out/v2/result_0001.json"),
            "--output=/var/tmp/build-2024/out/v2/result_0001.json");
  // A random key, hex digest or base64 blob: a long stretch without '/' or '.'.
  EXPECT_TRUE(looksLikeSecret("9f8e7d6c5b4a39281716a5b4c3d2e1f0a9b8c7d6"));
  EXPECT_TRUE(looksLikeSecret("q7Zk2Lr9Xw4Vb8Nm3Pt6Hs1Jd5Gf0Ky7Ua2Ci9Oe4/x"));
}

TEST(ToolInputTest, EveryLevelAndSecretsRedactedAtEachOne) {
  const json args = {{"path", "/workspace/a.txt"}, {"api_key", "plain-looking"}, {"opts", {{"x", 1}, {"y", 2}}},
                     {"list", {1, 2, 3}}, {"body", std::string(100, 'b')}, {"t", "ghp_0123456789abcdefghij"}};
  EXPECT_EQ(summarizeToolInput(args, policy::ToolInputs::kNone), "");
  EXPECT_EQ(summarizeToolInput(args, policy::ToolInputs::kKeys), "keys: api_key, body, list, opts, path, t");
  EXPECT_EQ(summarizeToolInput(args, policy::ToolInputs::kSummary),
            "api_key=[redacted] body=" + std::string(64, 'b') + "... (100 bytes) list=[3 items] opts={x,y} "
            "path=/workspace/a.txt t=[redacted]");
  const json full = json::parse(fullToolInput(args, policy::ToolInputs::kFull));
  EXPECT_EQ(full["api_key"], "[redacted]");
  EXPECT_EQ(full["t"], "[redacted]");
  EXPECT_EQ(full["path"], "/workspace/a.txt");
  EXPECT_EQ(fullToolInput(args, policy::ToolInputs::kSummary), "");
}

TEST(InstallArgsTest, RequestedVersionsAndDirectInstallsFromTheCommandLine) {
  EXPECT_EQ(installSpecFor(PackageManager::kPip, "/usr/bin/python3 -m pip install -q Requests[socks]>=2.30 idna", "requests", "")
                .requested_version,
            ">=2.30");
  EXPECT_TRUE(installSpecFor(PackageManager::kPip, "pip install idna", "idna", "").named);
  EXPECT_FALSE(installSpecFor(PackageManager::kPip, "pip install -r requirements.txt", "idna", "").named);
  EXPECT_TRUE(installSpecFor(PackageManager::kPip, "pip install https://h/x-1.0-py3-none-any.whl", "x",
                             "https://h/x-1.0-py3-none-any.whl")
                  .direct_url);
  EXPECT_TRUE(installSpecFor(PackageManager::kPip, "pip install git+https://github.com/a/x", "x", "").vcs);
  EXPECT_EQ(installSpecFor(PackageManager::kNpm, "node /usr/bin/npm i @scope/pkg@^2 left-pad", "@scope/pkg", "").requested_version,
            "^2");
  EXPECT_EQ(installSpecFor(PackageManager::kNpm, "npm install left-pad", "left-pad", "").requested_version, "latest");
  EXPECT_EQ(installSpecFor(PackageManager::kApt, "apt-get install -y hello=2.10-3", "hello", "").requested_version, "2.10-3");
  EXPECT_TRUE(isInstallerVcsFetch("git clone --filter=blob:none -q https://github.com/a/x /tmp/pip-req-build-abc"));
}

std::string compress(Compression kind, std::string_view data) {
  std::string out(data.size() + 4096, '\0');
  if (kind == Compression::kXz) {
    size_t pos = 0;
    lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, nullptr, reinterpret_cast<const uint8_t*>(data.data()), data.size(),
                            reinterpret_cast<uint8_t*>(out.data()), &pos, out.size());
    out.resize(pos);
    return out;
  }
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, kind == Compression::kGzip ? 16 + MAX_WBITS : MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

TEST(DecompressorTest, GzipDeflateAndXzInAnySplitAndABombStopsAtTheCap) {
  const std::string text(300000, 'p');
  for (Compression kind : {Compression::kGzip, Compression::kDeflate, Compression::kXz}) {
    const std::string packed = compress(kind, text);
    for (size_t piece : {size_t{1}, size_t{1000}, packed.size()}) {
      auto d = Decompressor::create(kind, 1 << 20).value();
      std::string out;
      for (size_t i = 0; i < packed.size(); i += piece) {
        ASSERT_TRUE(d->feed(std::string_view(packed).substr(i, piece), [&](std::string_view s) { out.append(s); }).ok());
      }
      EXPECT_EQ(out, text);
      EXPECT_TRUE(d->finished()) << "piece " << piece << " kind " << static_cast<int>(kind);
    }
    auto small = Decompressor::create(kind, 1000).value();
    const auto r = small->feed(packed, [](std::string_view) {});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message().find("over 1000 bytes"), std::string::npos);
  }
  auto bad = Decompressor::create(Compression::kXz, 1000).value();
  EXPECT_FALSE(bad->feed("definitely not xz", [](std::string_view) {}).ok());
  EXPECT_FALSE(compressionFrom("br").has_value());
}

}  // namespace
}  // namespace warden::proxy::inspect
