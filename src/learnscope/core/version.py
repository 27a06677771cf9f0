"""The package's version, in core so that every layer can name it (model files, the CLI) without importing the
package root, which sits above them all."""

__version__ = "0.1.0"
