"""Front end: command line, console, logging, and the embedding API."""
