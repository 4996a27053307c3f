import mongoose, { Types } from 'mongoose';
import { Role } from './role';
import { UserModel } from './user.model';

const COLLECTION = 'adminGuard';
const GUARD_ID = 'admins';

interface GuardDocument {
  _id: string;
  ids: Types.ObjectId[];
}

/**
 * Keeps at least one admin, also when admins remove each other at the same moment. MongoDB
 * has no multi-document transaction on a standalone server, so the rule lives in one document:
 * the set of admin ids. Removing an admin (demotion or deletion) first takes the target out of
 * that set, in one conditional update that requires both the acting admin and the target in
 * it; only then is the user changed. Since the actor stays in the set, it can never become
 * empty, and of two admins removing each other only the first update matches.
 *
 * The set never holds more than the real admins: a removal leaves it before the user changes,
 * an addition joins it after. An admin missing from it (a crash between the two steps) can
 * neither remove nor be removed until made admin again (`setUserRole` to ADMIN repairs it):
 * the safe side.
 */
export class AdminGuard {
  private get collection() {
    return mongoose.connection.collection<GuardDocument>(COLLECTION);
  }

  /** Creates the set from the admins stored, once per database (later starts keep it). */
  async init(): Promise<void> {
    const admins = await UserModel.collection
      .find({ role: Role.ADMIN }, { projection: { _id: 1 } })
      .toArray();
    await this.collection.updateOne(
      { _id: GUARD_ID },
      { $setOnInsert: { ids: admins.map((admin) => admin._id) } },
      { upsert: true },
    );
  }

  /** After a user became admin: joins the set, unless they stopped being one meanwhile. */
  async added(userId: string): Promise<void> {
    const id = new Types.ObjectId(userId);
    await this.collection.updateOne(
      { _id: GUARD_ID },
      { $addToSet: { ids: id } },
      { upsert: true },
    );
    const still = await UserModel.collection.countDocuments({ _id: id, role: Role.ADMIN });
    if (still === 0) await this.collection.updateOne({ _id: GUARD_ID }, { $pull: { ids: id } });
  }

  /**
   * Takes `targetId` out of the admins before it is demoted or deleted by `actorId`; false
   * when that would leave no admin (the actor is no longer one, or the target is not in it).
   */
  async remove(actorId: string, targetId: string): Promise<boolean> {
    const actor = new Types.ObjectId(actorId);
    const target = new Types.ObjectId(targetId);
    if (actor.equals(target)) return false;
    const result = await this.collection.updateOne(
      { _id: GUARD_ID, ids: { $all: [actor, target] } },
      { $pull: { ids: target } },
    );
    return result.modifiedCount === 1;
  }
}
