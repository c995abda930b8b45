// Both implementations must fail.
{ a: error 'boom' }
