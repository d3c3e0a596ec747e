#pragma once

// Real package repositories for the proxy's package tests, built with the real tools into a directory
// a server (nginx, python's http.server, verdaccio) serves: a PEP 503 simple index with wheels
// (python3's zipfile), an apt repository (dpkg-deb, apt-ftparchive), and verdaccio's storage for npm
// (npm pack). Each can be "tampered": the index advertises the real file's digest and the file served
// differs in one byte (same size).

#include <filesystem>
#include <string>
#include <vector>

namespace warden::testing {

// <root>/simple/<project>/index.html and <root>/packages/<project>-<version>-py3-none-any.whl (a
// valid pure-python wheel with a RECORD), the link carrying #sha256=. False (and *why) on failure.
bool makePipProject(const std::filesystem::path& root, const std::string& project, const std::string& version,
                    bool tampered, std::string* why);

// <root>/repo/pool/main/<package>_<version>_all.deb for each package, then dists/stable/main/binary-all
// Packages + Packages.gz and dists/stable/Release (apt-ftparchive). Packages named in `tampered` get a
// byte changed in their .deb after the index was made.
bool makeAptRepository(const std::filesystem::path& root, const std::vector<std::string>& packages,
                       const std::vector<std::string>& tampered, std::string* why);

// A package in verdaccio's storage: <storage>/<name>/package.json (registry metadata with dist.integrity
// and dist.shasum) and <storage>/<name>/<name>-<version>.tgz (npm pack of a one-file package).
bool seedVerdaccioPackage(const std::filesystem::path& storage, const std::string& name, const std::string& version,
                          bool tampered, std::string* why);

}  // namespace warden::testing
