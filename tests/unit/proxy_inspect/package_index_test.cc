#include "proxy/inspect/package_index.h"

#include <gtest/gtest.h>

#include "proxy/inspect/package_url.h"

namespace warden::proxy::inspect {
namespace {

TEST(PackageUrlTest, ArtifactsAreNamedByTheirFiles) {
  auto whl = artifactFromPath("/packages/ab/cd/Requests-2.31.0-py3-none-any.whl");
  ASSERT_TRUE(whl);
  EXPECT_EQ(whl->manager, PackageManager::kPip);
  EXPECT_EQ(whl->name, "requests");
  EXPECT_EQ(whl->version, "2.31.0");
  auto sdist = artifactFromPath("/packages/zope.interface-6.0.tar.gz");
  ASSERT_TRUE(sdist);
  EXPECT_EQ(sdist->name, "zope-interface");
  EXPECT_EQ(sdist->version, "6.0");
  auto tgz = artifactFromPath("/@types/node/-/node-20.1.0.tgz");
  ASSERT_TRUE(tgz);
  EXPECT_EQ(tgz->manager, PackageManager::kNpm);
  EXPECT_EQ(tgz->name, "@types/node");
  EXPECT_EQ(tgz->version, "20.1.0");
  auto deb = artifactFromPath("/debian/pool/main/h/hello/hello_1%3a2.10-3_amd64.deb");
  ASSERT_TRUE(deb);
  EXPECT_EQ(deb->manager, PackageManager::kApt);
  EXPECT_EQ(deb->version, "1:2.10-3");
  EXPECT_FALSE(artifactFromPath("/index.html"));
  EXPECT_FALSE(artifactFromPath("/left-pad/-/other-1.0.0.tgz"));
}

TEST(PackageUrlTest, IndexRequestsByClientAndPath) {
  auto pip = indexFromRequest("GET", "/simple/Requests/", "pip/23.0.1 {\"ci\":null}", "text/html");
  ASSERT_TRUE(pip);
  EXPECT_EQ(pip->kind, IndexKind::kPipSimple);
  EXPECT_EQ(pip->project, "requests");
  EXPECT_FALSE(indexFromRequest("GET", "/simple/requests/", "curl/8", "*/*"));
  auto npm = indexFromRequest("GET", "/@scope/pkg", "npm/10.8.2 node/v20.20.2 linux x64", "application/json");
  ASSERT_TRUE(npm);
  EXPECT_EQ(npm->project, "@scope/pkg");
  EXPECT_FALSE(indexFromRequest("GET", "/-/ping", "npm/10.8.2", ""));
  auto release = indexFromRequest("GET", "/debian/dists/bookworm/InRelease", "Debian APT-HTTP/1.3 (2.6.1)", "");
  ASSERT_TRUE(release);
  EXPECT_EQ(release->kind, IndexKind::kAptRelease);
  EXPECT_EQ(release->dists_base, "/debian/dists/bookworm/");
  EXPECT_EQ(release->repo_base, "/debian/");
  auto packages = indexFromRequest("GET", "/debian/dists/bookworm/main/binary-amd64/Packages.xz", "", "");
  ASSERT_TRUE(packages);
  EXPECT_EQ(packages->kind, IndexKind::kAptPackages);
  EXPECT_EQ(packages->compression, "xz");
}

TEST(PackageUrlTest, KeysJoinAdvertisedUrlsToRequests) {
  EXPECT_EQ(artifactKey("https://Files.Example.org/packages/a%2Db.whl#sha256=00").value_or(""),
            "files.example.org:443/packages/a-b.whl");
  EXPECT_EQ(artifactKey("http://127.0.0.1:8080/x/../y.tgz").value_or(""), "127.0.0.1:8080/y.tgz");
  EXPECT_EQ(artifactKey("files.example.org", 443, "/packages/a-b.whl"), "files.example.org:443/packages/a-b.whl");
  EXPECT_FALSE(artifactKey("ftp://x/y"));
  EXPECT_EQ(resolveUrl("https://pypi.example/simple/requests/", "../../packages/r.whl#sha256=ab"),
            "https://pypi.example/packages/r.whl");
  EXPECT_EQ(resolveUrl("https://pypi.example/simple/requests/", "/p/r.whl"), "https://pypi.example/p/r.whl");
  EXPECT_EQ(resolveUrl("https://pypi.example/simple/requests/", "//cdn.example/r.whl"), "https://cdn.example/r.whl");
}

TEST(PackageIndexTest, Pep503HtmlGivesResolvedUrlsAndFragmentDigests) {
  const std::string hash(64, 'A');
  const std::string html =
      "<!DOCTYPE html><html><body><h1>Links for requests</h1>\n"
      "<a href=\"../../packages/requests-2.31.0-py3-none-any.whl#sha256=" + hash + "\" data-requires-python=\"&gt;=3.7\">requests-2.31.0-py3-none-any.whl</a><br/>\n"
      "<A HREF='https://files.example/requests-2.30.0.tar.gz?x=1&amp;y=2'>old</A>\n"
      "<a name=x>no href</a><a\nhref=unquoted.whl>u</a></body></html>";
  const IndexParse p = parsePipSimpleHtml(html, "https://pypi.example/simple/requests/", "requests");
  ASSERT_EQ(p.files.size(), 3u);
  EXPECT_EQ(p.files[0].url, "https://pypi.example/packages/requests-2.31.0-py3-none-any.whl");
  EXPECT_EQ(p.files[0].sha256, std::string(64, 'a'));
  EXPECT_EQ(p.files[0].version, "2.31.0");
  EXPECT_EQ(p.files[1].url, "https://files.example/requests-2.30.0.tar.gz?x=1&y=2");
  EXPECT_TRUE(p.files[1].sha256.empty());
  EXPECT_EQ(p.files[2].url, "https://pypi.example/simple/requests/unquoted.whl");
  EXPECT_EQ(p.skipped, 1u);
}

TEST(PackageIndexTest, Pep691AndNpmMetadata) {
  const IndexParse pep691 = parsePipSimpleJson(
      R"({"meta":{"api-version":"1.1"},"name":"requests","files":[{"filename":"requests-2.31.0.tar.gz","url":"https://f.example/r.tar.gz","hashes":{"sha256":")" +
          std::string(64, 'b') + R"("},"size":1234},{"filename":"x"}]})",
      "https://pypi.example/simple/requests/", "requests");
  ASSERT_EQ(pep691.files.size(), 1u);
  EXPECT_EQ(pep691.files[0].size, 1234u);
  EXPECT_EQ(pep691.skipped, 1u);

  const IndexParse npm = parseNpmMetadata(
      R"({"name":"left-pad","versions":{"1.3.0":{"name":"left-pad","dist":{"tarball":"http://reg.example/left-pad/-/left-pad-1.3.0.tgz","shasum":"5b8a3a7765dfe001261dde915589e782f8c94d1e","integrity":"sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQeMOsc3wnBktL+Ml5a2qwl+XtpX7I3Zs9Lxzp9mpbk0U8lA=="}},"1.2.0":{"dist":{"tarball":"/left-pad/-/left-pad-1.2.0.tgz","shasum":"5B8A3A7765DFE001261DDE915589E782F8C94D1E"}}}})",
      "http://reg.example/left-pad");
  ASSERT_EQ(npm.files.size(), 2u);
  const auto& v130 = npm.files[0].version == "1.3.0" ? npm.files[0] : npm.files[1];
  const auto& v120 = npm.files[0].version == "1.3.0" ? npm.files[1] : npm.files[0];
  EXPECT_EQ(v130.other_digest.rfind("sha512-XI5M", 0), 0u) << "sha512 wins over the shasum";
  EXPECT_EQ(v120.url, "http://reg.example/left-pad/-/left-pad-1.2.0.tgz");
  EXPECT_EQ(v120.other_digest, "sha1:5b8a3a7765dfe001261dde915589e782f8c94d1e");
  EXPECT_FALSE(parseNpmMetadata("[1]", "http://x/").error.empty());
  EXPECT_FALSE(parseNpmMetadata("{\"versions\":3}", "http://x/").error.empty());
}

TEST(PackageIndexTest, AptReleaseAndPackagesStreamed) {
  const std::string sha(64, 'c');
  const std::string release =
      "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nOrigin: test\nSuite: stable\nMD5Sum:\n " + std::string(32, 'd') +
      " 10 main/binary-amd64/Packages\nSHA256:\n " + sha + "   1234 main/binary-amd64/Packages\n " + sha +
      " 99 main/binary-amd64/Packages.xz\n bad line\n-----BEGIN PGP SIGNATURE-----\n";
  const auto entries = parseAptRelease(release);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].path, "main/binary-amd64/Packages");
  EXPECT_EQ(entries[0].size, 1234u);

  const std::string packages =
      "Package: hello\nVersion: 2.10-3\nDescription: x\n long text\nFilename: pool/main/h/hello/hello_2.10-3_amd64.deb\n"
      "Size: 53184\nSHA256: " + sha + "\n\nPackage: nofile\nVersion: 1\n\nPackage: last\r\nFilename: pool/l.deb\r\nSHA256: " + sha;
  for (size_t piece : {size_t{1}, size_t{7}, packages.size()}) {
    std::vector<AptPackagesParser::Stanza> got;
    AptPackagesParser parser([&](AptPackagesParser::Stanza&& s) { got.push_back(std::move(s)); });
    for (size_t i = 0; i < packages.size(); i += piece) parser.feed(std::string_view(packages).substr(i, piece));
    parser.finish();
    ASSERT_EQ(got.size(), 2u) << piece;
    EXPECT_EQ(got[0].package, "hello");
    EXPECT_EQ(got[0].size, 53184u);
    EXPECT_EQ(got[0].sha256, sha);
    EXPECT_EQ(got[1].filename, "pool/l.deb");
    EXPECT_EQ(parser.stanzas(), 3u);
  }
}

}  // namespace
}  // namespace warden::proxy::inspect
