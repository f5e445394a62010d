"""`python -m anygate` is the `anygate` command."""

from anygate.cli import main

main()
