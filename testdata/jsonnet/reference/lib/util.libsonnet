{ double(x):: x * 2 }
