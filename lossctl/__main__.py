import sys

from lossctl.cli import main

sys.exit(main())
