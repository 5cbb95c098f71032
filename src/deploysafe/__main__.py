from deploysafe.cli import main

main()
