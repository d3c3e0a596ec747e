#include "proxy/inspect/packages.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include "common/encoding.h"
#include "inspect_test_util.h"
#include "policy/loader.h"

namespace warden::proxy::inspect {
namespace {

policy::Policy policyWith(std::string_view audit_yaml) {
  std::string yaml = "version: 1\n";
  yaml += audit_yaml;
  yaml += "network:\n  r:\n    endpoints: [ { host: pypi.example, ports: [443] } ]\n    binaries: [ { path: \"/**\" } ]\n";
  auto p = policy::loadPolicyText(yaml, "test.yaml");
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().toString());
  return std::move(p).value();
}

std::string gzip(std::string_view data) {
  z_stream z{};
  deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(data.size() + 1024, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

class PackageExchangeTest : public ::testing::Test {
 protected:
  RecorderFixture f;
  PackageLedger ledger;
  policy::Policy policy = policyWith("audit:\n  package_sources: [pypi.example]\n");

  PackageExchangeTest() {
    f.parties.host = "pypi.example";
    f.parties.rule = "r";
    ocsf::Process pip;
    pip.name = "python3";
    pip.pid = 42;
    pip.cmd_line = "/usr/bin/python3 -m pip install requests==2.31.0";
    f.parties.actor = pip;
  }

  std::unique_ptr<PackageExchange> get(std::string path, std::string ua = "pip/23.0.1", std::string extra = "") {
    HttpRequestHead head = requestHead("GET " + path + " HTTP/1.1\r\nHost: pypi.example\r\nUser-Agent: " + ua +
                                       "\r\nAccept-Encoding: gzip, deflate, br\r\n" + extra + "\r\n");
    head_ = head;
    return PackageExchange::begin(f.recorder, f.parties, ledger, policy, head, path, f.parties.origin() + path);
  }
  // Serves `body` as a 200 with Content-Length in pieces; returns whether every piece was forwarded.
  bool serve(PackageExchange& x, std::string_view body, std::string headers = "", size_t piece = 5) {
    x.onResponseHead(responseHead("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + headers + "\r\n"));
    for (size_t i = 0; i < body.size(); i += piece) {
      const bool last = i + piece >= body.size();
      if (!x.onResponseBody(body.substr(i, piece), last)) {
        x.onEnd({.response_complete = false, .cut = true});
        return false;
      }
    }
    x.onEnd({.response_complete = true});
    return true;
  }
  void publishIndex(std::string_view artifact_sha256) {
    auto index = get("/simple/requests/");
    ASSERT_TRUE(index && index->isIndex());
    ASSERT_FALSE(index->onRequest(head_).has_value());
    EXPECT_EQ(findHeader(head_.headers, "accept-encoding")->value, "gzip, deflate") << "br is not asked for";
    const std::string html = "<a href=\"/packages/requests-2.31.0-py3-none-any.whl#sha256=" + std::string(artifact_sha256) +
                             "\">requests-2.31.0-py3-none-any.whl</a>";
    EXPECT_TRUE(serve(*index, gzip(html), "Content-Encoding: gzip\r\nContent-Type: text/html\r\n"));
  }
  HttpRequestHead head_;
};

TEST_F(PackageExchangeTest, ADownloadAdvertisedByAnIndexIsVerified) {
  const std::string wheel(10000, 'w');
  publishIndex(sha256Hex(wheel));
  EXPECT_EQ(ledger.size(), 1u);
  auto x = get("/packages/requests-2.31.0-py3-none-any.whl");
  ASSERT_TRUE(x && x->isArtifact());
  EXPECT_FALSE(x->onRequest(head_).has_value());
  EXPECT_TRUE(serve(*x, wheel));
  const auto lines = f.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "PKG:INSTALL [INFO] pip requests 2.31.0 [source:https://pypi.example/packages/requests-2.31.0-py3-none-any.whl sha256:" +
                          sha256Hex(wheel).substr(0, 4) + "... verdict:verified]");
  const auto all_events = f.emitter.events();
  const ocsf::Event& e = all_events[0];
  EXPECT_EQ(e.unmapped.findPath({"package", "requested_version"})->asString(), "==2.31.0");
  EXPECT_EQ(e.unmapped.findPath({"package", "advertised_sha256"})->asString(), sha256Hex(wheel));
  EXPECT_EQ(e.unmapped.findPath({"package", "install_kind"})->asString(), "index");
}

TEST_F(PackageExchangeTest, ATamperedArtifactIsCutBeforeItsLastByteUnderEnforce) {
  const std::string wheel(10000, 'w');
  publishIndex(sha256Hex(wheel));
  auto x = get("/packages/requests-2.31.0-py3-none-any.whl");
  std::string tampered = wheel;
  tampered[5000] = 'X';
  EXPECT_FALSE(serve(*x, tampered)) << "the last piece must not be forwarded";
  const auto lines = f.lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("PKG:INSTALL [HIGH] DENIED pip requests 2.31.0 [policy:r engine:l7]"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("verdict:mismatch"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("FINDING:BLOCKED [HIGH] \"Package does not match the hash its index advertised\""), std::string::npos)
      << lines[1];
}

TEST_F(PackageExchangeTest, ABodyCutShortIsRecordedWithTheBytesSeenAndNoVerdict) {
  publishIndex(std::string(64, 'a'));
  auto x = get("/packages/requests-2.31.0-py3-none-any.whl");
  x->onResponseHead(responseHead("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"));
  EXPECT_TRUE(x->onResponseBody(std::string(300, 'x'), false));
  x->onEnd({.response_complete = false});
  const auto lines = f.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("[source:https://pypi.example/packages/requests-2.31.0-py3-none-any.whl bytes:300 status:incomplete]"),
            std::string::npos)
      << lines[0];
  EXPECT_EQ(f.emitter.events()[0].unmapped.findPath({"package", "verdict"}), nullptr);
}

TEST_F(PackageExchangeTest, AnUnadvertisedWheelIsUnknownAndASourceOutsideTheListIsRefused) {
  auto x = get("/packages/other-1.0-py3-none-any.whl", "curl/8.0");
  ASSERT_TRUE(x) << "a wheel is a package whoever fetches it";
  EXPECT_TRUE(serve(*x, "abc"));
  EXPECT_NE(f.lines().at(0).find("verdict:unknown"), std::string::npos);

  f.parties.host = "evil.example";
  auto denied = get("/packages/other-1.0-py3-none-any.whl");
  const auto answer = denied->onRequest(head_);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 403);
  const auto lines = f.lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[1].find("PKG:INSTALL [MED] DENIED pip other 1.0 [policy:r engine:l7]"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("FINDING:BLOCKED [MED] \"Package download from a source the policy does not list\""), std::string::npos)
      << lines[2];
}

TEST_F(PackageExchangeTest, ADirectUrlInstallIsAMediumFinding) {
  ocsf::Process pip = *f.parties.actor;
  pip.cmd_line = "/usr/bin/python3 -m pip install https://pypi.example/packages/other-1.0-py3-none-any.whl";
  f.parties.actor = pip;
  auto x = get("/packages/other-1.0-py3-none-any.whl");
  EXPECT_TRUE(serve(*x, "abc"));
  const auto lines = f.lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[1].find("FINDING:DETECTED [MED] \"Direct-URL package install\""), std::string::npos) << lines[1];
}

TEST_F(PackageExchangeTest, NpmIntegrityAndAptReleaseChainsAreVerified) {
  f.parties.host = "registry.example";
  policy = policyWith("audit:\n  package_sources: [registry.example]\n");
  const std::string tarball = "tarball bytes";
  // sha512 of the tarball, as npm's integrity field gives it.
  ArtifactDigest d(true, false);
  d.update(tarball);
  d.finish();
  auto meta = get("/left-pad", "npm/10.8.2 node/v20");
  ASSERT_TRUE(meta && meta->isIndex());
  const std::string json = R"({"name":"left-pad","versions":{"1.3.0":{"dist":{"tarball":"https://registry.example/left-pad/-/left-pad-1.3.0.tgz","integrity":")" +
                           d.sha512Sri() + R"("}}}})";
  EXPECT_TRUE(serve(*meta, json, "Content-Type: application/json\r\n"));
  ocsf::Process npm;
  npm.name = "node";
  npm.pid = 7;
  npm.cmd_line = "node /usr/bin/npm install left-pad@^1.3.0";
  f.parties.actor = npm;
  auto x = get("/left-pad/-/left-pad-1.3.0.tgz", "npm/10.8.2 node/v20");
  EXPECT_TRUE(serve(*x, tarball));
  ASSERT_EQ(f.lines().size(), 1u);
  EXPECT_NE(f.lines()[0].find("PKG:INSTALL [INFO] npm left-pad 1.3.0"), std::string::npos);
  EXPECT_NE(f.lines()[0].find("verdict:verified"), std::string::npos) << f.lines()[0];
  EXPECT_EQ(f.emitter.events()[0].unmapped.findPath({"package", "requested_version"})->asString(), "^1.3.0");

  // apt: InRelease -> Packages (verified against it) -> .deb (verified against Packages).
  f.parties.host = "deb.example";
  f.parties.tls = false;
  f.parties.port = 80;
  policy = policyWith("");
  const std::string deb = "!<arch>\ndebian-binary";
  const std::string packages = "Package: hello\nVersion: 2.10-3\nFilename: pool/main/h/hello/hello_2.10-3_amd64.deb\nSize: " +
                               std::to_string(deb.size()) + "\nSHA256: " + sha256Hex(deb) + "\n\n";
  const std::string packages_gz = gzip(packages);
  const std::string release = "Suite: stable\nSHA256:\n " + sha256Hex(packages_gz) + " " + std::to_string(packages_gz.size()) +
                              " main/binary-amd64/Packages.gz\n";
  auto rel = get("/repo/dists/stable/InRelease", "Debian APT-HTTP/1.3 (2.6.1)");
  EXPECT_TRUE(serve(*rel, release));
  auto pk = get("/repo/dists/stable/main/binary-amd64/Packages.gz", "Debian APT-HTTP/1.3 (2.6.1)");
  EXPECT_TRUE(serve(*pk, packages_gz));
  auto x2 = get("/repo/pool/main/h/hello/hello_2.10-3_amd64.deb", "Debian APT-HTTP/1.3 (2.6.1)");
  EXPECT_TRUE(serve(*x2, deb));
  ASSERT_EQ(f.lines().size(), 2u);
  EXPECT_NE(f.lines()[1].find("PKG:INSTALL [INFO] apt hello 2.10-3 [source:http://deb.example/repo/pool/main/h/hello/hello_2.10-3_amd64.deb"),
            std::string::npos)
      << f.lines()[1];
  EXPECT_NE(f.lines()[1].find("verdict:verified"), std::string::npos);

  // A Packages file that does not match its Release: cut, and a High finding.
  auto rel2 = get("/repo/dists/stable/InRelease", "Debian APT-HTTP/1.3 (2.6.1)");
  EXPECT_TRUE(serve(*rel2, release));
  auto bad = get("/repo/dists/stable/main/binary-amd64/Packages.gz", "Debian APT-HTTP/1.3 (2.6.1)");
  EXPECT_FALSE(serve(*bad, gzip(packages + "\n")));
  EXPECT_NE(f.lines().back().find("\"Package index does not match its Release file\""), std::string::npos) << f.lines().back();
}

TEST_F(PackageExchangeTest, AMalformedIndexIsAnEventNotACrash) {
  auto index = get("/simple/requests/", "pip/23", "Accept: application/vnd.pypi.simple.v1+json\r\n");
  EXPECT_TRUE(serve(*index, "{\"files\": 3}", "Content-Type: application/vnd.pypi.simple.v1+json\r\n"));
  auto gz = get("/simple/other/");
  EXPECT_TRUE(serve(*gz, "not gzip at all", "Content-Encoding: gzip\r\n"));
  auto br = get("/simple/third/");
  EXPECT_TRUE(serve(*br, "x", "Content-Encoding: br\r\n"));
  const auto lines = f.lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find("EVENT:INSPECTION [LOW] pip index from pypi.example not understood: no \"files\" array"), std::string::npos)
      << lines[0];
  EXPECT_NE(lines[1].find("not read: corrupt compressed data"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("Content-Encoding br is not one the proxy decodes"), std::string::npos) << lines[2];
  EXPECT_EQ(ledger.size(), 0u);
}

}  // namespace
}  // namespace warden::proxy::inspect
