"""Tables, plots and markdown reports (files are written only here and in cli/)."""
