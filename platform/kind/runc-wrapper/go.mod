module platform.local/runc-wrapper

go 1.22
