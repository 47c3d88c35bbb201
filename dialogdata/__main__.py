"""`python -m dialogdata` runs the command line."""

from dialogdata.cli import main

main()
