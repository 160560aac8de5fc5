import { expect } from 'chai';
import { parsePortList } from '../../src/loadtest/server-ports';

describe('parsePortList', () => {
  it('reads a comma list of ports, in order', () => {
    expect(parsePortList('8080')).to.deep.equal([8080]);
    expect(parsePortList('9001,8080,1,65535')).to.deep.equal([9001, 8080, 1, 65535]);
  });

  it('says what is wrong with a list that is not one of different ports', () => {
    const why = (text: string) => () => parsePortList(text);
    expect(why('')).to.throw('it is empty');
    expect(why('8080,')).to.throw('one is empty');
    expect(why('8080,,8081')).to.throw('one is empty');
    expect(why('8080,x')).to.throw('"x" is no port from 1 to 65535');
    expect(why('0')).to.throw('"0" is no port from 1 to 65535');
    expect(why('65536')).to.throw('"65536" is no port from 1 to 65535');
    expect(why('8080, 8081')).to.throw('" 8081" is no port from 1 to 65535');
    expect(why('-1')).to.throw('"-1" is no port');
    expect(why('80.5')).to.throw('"80.5" is no port');
    expect(why('8080,8081,8080')).to.throw('8080 is there twice');
  });
});
