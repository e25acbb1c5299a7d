#!/bin/sh
# Stand-in for Prisma's native schema engine, which cannot be downloaded on our machines.
# `prisma generate` only needs the file to exist; every other use ends here with advice.
echo "The native Prisma schema engine is not used in this project." >&2
echo "Create a migration:  npm run migrate:create -- <name>" >&2
echo "Apply migrations:    npm run migrate:deploy   (npm start also applies them)" >&2
exit 1
