module platform.local/pause

go 1.22
