module platform.local/smoke

go 1.22
