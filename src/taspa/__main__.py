from taspa.cli import main

main()
