import { createServer } from 'node:http';
import express, { type RequestHandler } from 'express';
import jwt, { type JwtPayload } from 'jsonwebtoken';
import mongoose from 'mongoose';
import { childOptions, serveChild } from './child';

/**
 * The peer the product is compared with: JWT auth the way the common Express tutorials write
 * it. A `protect` middleware verifies the Bearer token with jsonwebtoken and loads the user
 * with `User.findById` on every request, then `GET /me` answers from the loaded user (kept in
 * `res.locals` here rather than on `req.user`, which Express's types do not have).
 *
 * The lookup is NOT `.lean()`: the tutorials hydrate a full document
 * (`req.user = await User.findById(decoded.id).select('-password')`) and hang it on the
 * request, and that is the cost a typical app pays. The product reads lean objects; this is
 * the peer as found in the wild, not a tuned one (lean would make it somewhat faster).
 *
 * Its own small model over the product's `users` collection in the same database, so both
 * read the very same documents. Settings come from the environment, as in the tutorials; the
 * parent sets the product's secret, issuer and audience there.
 */

const userSchema = new mongoose.Schema(
  {
    email: { type: String, required: true },
    name: String,
    role: { type: String, enum: ['admin', 'customer'] },
    // Tutorials hide the hash from reads this way (or with `.select('-password')`).
    passwordHash: { type: String, select: false },
  },
  { timestamps: true },
);
const User = mongoose.model('User', userSchema, 'users');

serveChild(async () => {
  const secret = process.env.JWT_SECRET!;
  const verifyOptions: jwt.VerifyOptions = {
    algorithms: ['HS256'],
    issuer: process.env.JWT_ISSUER,
    audience: process.env.JWT_AUDIENCE,
  };
  await mongoose.connect(process.env.MONGODB_URI!, { dbName: childOptions().dbName });

  const protect: RequestHandler = async (req, res, next) => {
    const header = req.headers.authorization;
    if (!header?.startsWith('Bearer ')) {
      res.status(401).json({ message: 'Not authorized, no token' });
      return;
    }
    try {
      const decoded = jwt.verify(header.slice(7), secret, verifyOptions) as JwtPayload;
      const user = await User.findById(decoded.sub);
      if (!user) {
        res.status(401).json({ message: 'Not authorized, user not found' });
        return;
      }
      res.locals.user = user;
      next();
    } catch {
      res.status(401).json({ message: 'Not authorized, token failed' });
    }
  };

  const app = express();
  app.use(express.json());
  app.get('/me', protect, (_req, res) => {
    const user = res.locals.user as InstanceType<typeof User>;
    res.json({ id: user.id as string, email: user.email, role: user.role });
  });
  return { server: createServer(app) };
});
