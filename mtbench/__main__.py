from mtbench.cli import main

raise SystemExit(main())
