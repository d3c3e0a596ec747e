#pragma once

namespace warden::cli {

// Exit statuses of every command (product.md): 0 success, 1 a failure the command reports,
// 2 a usage error.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Runs `warden <command> ...`: picks the subcommand from argv[1] and hands it argv[1..].
int dispatch(int argc, char** argv);

// One entry point per subcommand, each in its own file (cli/<name>_command.cc).
// argv[0] is the subcommand's name.
int ocsfCommand(int argc, char** argv);
int auditCommand(int argc, char** argv);
int policyCommand(int argc, char** argv);
int rulesCommand(int argc, char** argv);
int proxyCommand(int argc, char** argv);
int runCommand(int argc, char** argv);
int sessionCommand(int argc, char** argv);
int gatewayCommand(int argc, char** argv);
// The operator's client commands for a gateway (docs/gateway-client.md).
int logsCommand(int argc, char** argv);
int settingsCommand(int argc, char** argv);
int sessionsCommand(int argc, char** argv);

}  // namespace warden::cli
