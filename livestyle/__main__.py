from livestyle.cli import main

raise SystemExit(main())
