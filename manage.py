#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import gc
import os
import sys

# Commands run as a process of their own per job, which collect no garbage until they exit (import_study's
# run_from_argv says why): from the interpreter's start, as the imports make a few hundred thousand objects that
# live to the exit, and collecting while they are made walks them again and again (5-9 % of the start-up's CPU).
NO_COLLECTION = frozenset({"import_study"})


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "teachingfile.settings.dev")
    if sys.argv[1:2] and sys.argv[1] in NO_COLLECTION:
        gc.disable()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
