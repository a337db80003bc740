from izdat.cli import main

main()
