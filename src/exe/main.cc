#include "cli/dispatch.h"

int main(int argc, char** argv) { return warden::cli::dispatch(argc, argv); }
