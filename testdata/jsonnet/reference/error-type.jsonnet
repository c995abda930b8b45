// Both implementations must fail.
{ a: 1 - 'x' }
