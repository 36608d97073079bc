"""Front door 2: the GitHub Action (also ``docker run IMAGE`` with no arguments).

Inputs arrive as ``INPUT_<NAME>`` variables (the runner upper-cases the input name and
keeps its hyphens: ``mfg-id`` -> ``INPUT_MFG-ID``; an omitted input is ``''``).  Input
``command`` picks the command; every other input is the settings field of the same
name (``mfg-id`` -> ``mfg_id``) and is validated by the very model the CLI uses, so the
two doors cannot drift.  ``OTA_*`` variables fill whatever no input gives (GitLab,
Jenkins and other CI systems use those with a plain ``docker run``).

The secrets ``signing-key`` and ``signing-key-passphrase`` (or, with no input,
``OTA_SIGNING_KEY`` / ``OTA_SIGNING_KEY_PASSPHRASE``) are not settings fields: before
anything else is printed every form of them is masked (``::add-mask::``, see
:mod:`ota_action.edges.masking`) and they are taken *out* of ``os.environ`` into
:class:`~ota_action.secret.Secret` objects, which reach the signer as an argument.
Messages about them name the input ("input signing-key").  A command that does not
sign refuses them (exit 2).

Results: outputs to ``$GITHUB_OUTPUT`` (random heredoc delimiters), a Markdown step
summary, ``::error``/``::warning`` annotations naming the input at fault.  A verdict
(``verify`` finding a file invalid, exit 1) still sets the outputs; a failure (exit 2 or
70) sets none, and what a failed publication wrote is rolled back.  Files written into
the workspace are given to the workspace's owner.

One module per job, so each can change alone:

- :mod:`.inputs` -- ``INPUT_*`` variables onto a command's settings fields;
- :mod:`.secrets` -- the secret inputs, taken out of the environment and masked;
- :mod:`.failures` -- an error as the Action reports it (the input at fault, the exit status);
- :mod:`.ownership` -- the workspace, and handing what the run created to its owner;
- :mod:`.publication` -- annotations, the step summary, outputs, and rollback;
- :mod:`.run` -- the entry point (:func:`.run.main`) and one run from inputs to exit status.

Importing the package imports none of them: ``entrypoint.py`` loads only what it runs.
"""
