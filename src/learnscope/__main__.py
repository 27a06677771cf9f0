import sys

from learnscope.cli import main

if __name__ == "__main__":      # not when a spawned training process imports this module as its main
    sys.exit(main())
