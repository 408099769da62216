from recruit_cli.cli import main

main()
