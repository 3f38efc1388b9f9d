from sample2_app.main import main

main()
