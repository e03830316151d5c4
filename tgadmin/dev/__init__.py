"""`tgadmin dev`: the whole platform in one terminal on the embedded defaults."""
