"""The ``tsilstm`` command line: one module per command; printing and files happen only here and in report/."""
