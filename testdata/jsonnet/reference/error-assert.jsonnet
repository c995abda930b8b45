// Both implementations must fail.
{ assert self.n > 1 : 'n too small', n: 0 }
