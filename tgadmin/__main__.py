from tgadmin.cli.main import app

app()
