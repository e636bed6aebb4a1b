"""The `mlgate` command line: each module registers its subcommands on the shared parser."""
