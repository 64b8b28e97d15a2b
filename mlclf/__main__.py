"""`python -m mlclf COMMAND ...`: the `mlclf` command without the installed script."""
from mlclf import commands

commands.main()
