from syndicate.cli.main import main

main()
