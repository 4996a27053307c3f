import { ArgsType, Field } from 'type-graphql';
import { PageArgs } from '../common/page.args';

@ArgsType()
export class TodoPageArgs extends PageArgs {
  @Field(() => Boolean, { nullable: true, description: 'Only done (true) or open (false) todos.' })
  completed?: boolean | null;
}
