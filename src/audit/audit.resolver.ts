import { Args, ArgsType, Authorized, Ctx, Field, ID, Query, Resolver } from 'type-graphql';
import { PageArgs } from '../common/page.args';
import { type Connection, pageRequest } from '../common/pagination';
import { parseObjectId } from '../common/validation';
import { type Context } from '../context';
import { Role } from '../users/role';
import { type AuditEventType } from './audit.model';
import { AuditEventConnection, AuditEventTypeEnum, type AuditEventView } from './audit.type';

@ArgsType()
class AuditEventArgs extends PageArgs {
  @Field(() => ID, { nullable: true, description: 'Only events about this user.' })
  userId?: string | null;

  @Field(() => AuditEventTypeEnum, { nullable: true, description: 'Only events of this type.' })
  type?: AuditEventType | null;
}

@Resolver()
export class AuditResolver {
  @Authorized(Role.ADMIN)
  @Query(() => AuditEventConnection, { description: 'Security events, newest first (admin).' })
  auditEvents(
    @Args() { first, after, userId, type }: AuditEventArgs,
    @Ctx() ctx: Context,
  ): Promise<Connection<AuditEventView>> {
    return ctx.services.audit.list(
      {
        ...(userId ? { userId: parseObjectId(userId, 'userId') } : {}),
        ...(type ? { type } : {}),
      },
      pageRequest(first, after),
    );
  }
}
