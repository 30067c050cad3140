module localkube/pause

go 1.24
