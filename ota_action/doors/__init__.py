"""The front doors: the command line (``cli``) and the GitHub Action (``action``).

A door turns what a user gave (argv, ``INPUT_*`` variables) into a command's settings,
runs the command and renders its one typed result; it never branches on the command.
"""
