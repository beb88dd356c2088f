"""`python -m mapapp` is the `mapapp` command."""
from mapapp.cli import main

main()
