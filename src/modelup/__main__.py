"""``python -m modelup``: the same as the ``modelup`` command."""

from modelup._cli.main import main

main()
