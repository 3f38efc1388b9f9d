module platform.example.local/alert-receiver

go 1.22
