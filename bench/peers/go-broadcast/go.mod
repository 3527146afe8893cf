module tavern/bench/go-broadcast

go 1.19
