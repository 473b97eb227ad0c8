import sys

from neuroheat.cli import main

sys.exit(main())
