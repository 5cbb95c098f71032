from deploysafe.cli import run

run()
