"""`python -m dailypapers` runs the command-line interface."""

from dailypapers.cli import main

main()
